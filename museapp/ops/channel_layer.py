"""The channel layer: channels_redis's pub/sub layer, with groups and
channels placed on the stream Redis servers by Muse's own ring
(museapp/ops/shards.py) instead of channels_redis's CRC ranges, so adding a
server moves only about 1/N of the conversations, and a person's group sits
beside their keys."""

from __future__ import annotations

import asyncio

from channels_redis.pubsub import RedisPubSubChannelLayer, RedisPubSubLoopLayer, _wrap_close

from museapp.ops.shards import ring_of


class _ShardedLoopLayer(RedisPubSubLoopLayer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        addresses = [shard.host["address"] for shard in self._shards]
        self._ring = ring_of(tuple(addresses))
        self._by_address = {address: shard for address, shard in zip(addresses, self._shards)}
        self._group_prefix = f"{self.prefix}__group__"

    def _get_shard(self, channel_or_group_name):
        name = channel_or_group_name
        if isinstance(name, bytes):
            name = name.decode()
        return self._by_address[self._ring.url_for(name.removeprefix(self._group_prefix))]


class ShardedPubSubChannelLayer(RedisPubSubChannelLayer):
    def _get_layer(self):
        loop = asyncio.get_running_loop()
        layer = self._layers.get(loop)
        if layer is None:
            layer = _ShardedLoopLayer(*self._args, **self._kwargs, channel_layer=self)
            self._layers[loop] = layer
            _wrap_close(self, loop)
        return layer
