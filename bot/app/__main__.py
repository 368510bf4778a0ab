"""``python -m bot.app``: run the web process (portal and staff console) with settings from
the environment."""

from __future__ import annotations

import logging

from bot.app import create_app
from bot.privacy.logging import install_log_redaction
from bot.settings import Settings


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    install_log_redaction()
    settings = Settings.from_env()
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    app = create_app(settings)
    app.run(
        host=settings.portal_host,
        port=settings.portal_port,
        workers=1,
        access_log=False,
        motd=False,
    )


if __name__ == "__main__":
    main()
