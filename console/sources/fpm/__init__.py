"""The PHP-FPM source: each pool's status page, read over FastCGI or through the web server."""
