from __future__ import annotations

import sys
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

from tests.support.apache_server import apache  # noqa: E402, F401
from tests.support.fpm_server import fpm  # noqa: E402, F401
from tests.support.local_http import local_server  # noqa: E402, F401
from tests.support.mariadb_server import fresh_mariadb, mariadb  # noqa: E402, F401
