"""Remote hosts: what a remote lamptop sends (``record --stream``) read into a host's sink."""
