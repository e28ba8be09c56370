"""The ``kefu`` command: Django's management commands under the product's name.

``kefu serve``, ``kefu demo``, ``kefu bench-seed`` and ``kefu createadmin`` are Kefu's own
commands; everything else (``kefu migrate``, ``kefu shell`` …) is Django's. A command module
cannot have a hyphen in its name, so ``bench-seed`` runs ``bench_seed``.
"""

import os
import sys

ALIASES = {"bench-seed": "bench_seed"}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kefu.settings")
    from django.core.management import execute_from_command_line

    argv = list(sys.argv)
    argv[0] = "kefu"
    # ``kefu bench-seed …`` and ``kefu help bench-seed``.
    argv[1:3] = [ALIASES.get(word, word) for word in argv[1:3]]
    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
