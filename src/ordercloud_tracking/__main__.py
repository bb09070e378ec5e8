"""``python -m ordercloud_tracking`` runs the ``ordercloud-tracking`` command."""

from .cli import run

if __name__ == "__main__":
    run()
