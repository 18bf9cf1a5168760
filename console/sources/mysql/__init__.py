"""Poll a MySQL or MariaDB server: its processlist, status counters and limits.

:class:`~console.sources.mysql.poll.MysqlPoller` is the source; it keeps one connection
(:mod:`~console.sources.mysql.session`) open across polls, reads the threads with
:mod:`~console.sources.mysql.processlist` and says what went wrong in the words of
:mod:`~console.sources.mysql.failure`.
"""
