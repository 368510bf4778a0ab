"""Database preparation shared by the run command and the tests."""

from __future__ import annotations

from datetime import date

from bot.portal.db import create_database, create_engine, session_factory
from bot.portal.models.encrypted import use_data_key
from bot.portal.services.demo import load_demo_data
from bot.privacy.files import private_dir
from bot.settings import Settings


async def prepare_database(settings: Settings, *, demo: bool = True) -> bool:
    """Create the tables; load the demo data into an empty database. True if it was loaded.

    The var directory (databases, Maildir, logs) is left to its owner only.
    """
    private_dir(settings.var_dir)
    use_data_key(settings.data_encryption_key)
    engine = create_engine(settings.resolved_database_url)
    try:
        await create_database(engine)
        if not demo:
            return False
        async with session_factory(engine).begin() as session:
            return await load_demo_data(session=session, today=date.today())
    finally:
        await engine.dispose()
