"""Redis-backed cache and rate limiter; both degrade gracefully when Redis is unavailable."""

from faros.adapters.redis.cache import RedisCache
from faros.adapters.redis.rate_limiter import RedisRateLimiter

__all__ = ["RedisCache", "RedisRateLimiter"]
