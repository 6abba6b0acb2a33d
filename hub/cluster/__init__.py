"""Several hubs as one: the Redis backplane (room frames, agent frames, agent presence).

Owns: `RedisBackplane`. It knows nothing of rooms or agents beyond callbacks it is given.
May import: protocol, the hub's foundation modules, redis.
"""
