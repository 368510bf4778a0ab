"""Where the Telegram and SMS channels keep what must outlive one webhook call.

Several Rasa servers behind one load balancer each build their own channels: a provider's
retry, a tenant's "2" or a document may reach another server than the one that sent the
choices or the upload link. So the channels keep that state in a ``StateStore``::

    ChannelState.from_settings(credentials)  (config)
      ├─ no Redis URL ... MemoryStore per use: this process only (development, one server)
      └─ Redis URL ...... RedisStore per use: shared by every server on that Redis, under
                          the key prefix (several deployments may share one Redis)

    store ......... the interface: get, set with expiry, add ("set if absent"), take, delete
    memory_store .. in process memory, bounded (today's behaviour, no service needed)
    redis_store ... on redis.asyncio; Redis errors raised as ``StateUnavailable``
"""

from bot.channels.state.config import ChannelState
from bot.channels.state.memory_store import MemoryStore
from bot.channels.state.store import StateStore, StateUnavailable

__all__ = ["ChannelState", "MemoryStore", "StateStore", "StateUnavailable"]
