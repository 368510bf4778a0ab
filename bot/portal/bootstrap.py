"""Database preparation shared by the run command and the tests."""

from __future__ import annotations

from datetime import date

from bot.portal.db import create_database, create_engine, session_factory
from bot.portal.services.demo import load_demo_data
from bot.settings import Settings


async def prepare_database(settings: Settings, *, demo: bool = True) -> bool:
    """Create the tables; load the demo data into an empty database. True if it was loaded."""
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    engine = create_engine(settings.resolved_database_url)
    try:
        await create_database(engine)
        if not demo:
            return False
        async with session_factory(engine).begin() as session:
            return await load_demo_data(session=session, today=date.today())
    finally:
        await engine.dispose()
