"""The ``kefu`` command: Django's management commands under the product's name.

``kefu serve``, ``kefu demo`` and ``kefu createadmin`` are Kefu's own commands;
everything else (``kefu migrate``, ``kefu shell`` …) is Django's.
"""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kefu.settings")
    from django.core.management import execute_from_command_line

    argv = list(sys.argv)
    argv[0] = "kefu"
    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
