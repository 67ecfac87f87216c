"""The worker renders a stream's Markdown once for every page, a few times a
second: every frame carries its text, a rendering comes at most every
MUSE_RENDER_INTERVAL, and the last frame always carries the finished
rendering. Over the real channel layer (Redis)."""

import asyncio

import pytest
from channels.layers import get_channel_layer

from museapp.streams.markdown import render_live
from museapp.streams.names import Stream, conversation_group
from museapp.streams.publisher import FramePublisher

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

CONVERSATION = 424242


async def frames_of(publisher: FramePublisher, words: list[str], delay: float) -> list[dict]:
    """Every frame the conversation's group receives while ``words`` stream,
    up to the publisher's last."""
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(conversation_group(CONVERSATION), channel)
    for word in words:
        await publisher.add(word)
        await asyncio.sleep(delay)
    await publisher.flush(final=True)
    received = [await asyncio.wait_for(layer.receive(channel), timeout=10)]
    while received[-1]["seq"] < publisher.seq:
        received.append(await asyncio.wait_for(layer.receive(channel), timeout=10))
    await layer.group_discard(conversation_group(CONVERSATION), channel)
    return received


async def test_renderings_come_at_most_every_interval_and_the_last_frame_is_the_finished_text(settings):
    settings.MUSE_RENDER_INTERVAL = 0.25
    stream = Stream.answer(987001)
    words = ["**Bold** start. "] + [f"word{i} " for i in range(60)]
    publisher = FramePublisher(CONVERSATION, stream)

    frames = await frames_of(publisher, words, 0.02)

    assert "".join(frame["text"] for frame in frames) == "".join(words), "every frame carries its text"
    rendered = [frame for frame in frames if frame["html"]]
    assert rendered[-1] is frames[-1], "the last frame carries the finished rendering"
    assert rendered[-1]["html"] == render_live("".join(words), stream.dom_id)
    gaps = [later["elapsed_ms"] - earlier["elapsed_ms"] for earlier, later in zip(rendered, rendered[1:-1])]
    assert all(gap >= 250 for gap in gaps), gaps
    assert 2 <= len(rendered) < len(frames) / 2, (len(rendered), len(frames))


async def test_a_longer_interval_means_fewer_renderings(settings):
    counts = {}
    for interval in (0.1, 10.0):
        settings.MUSE_RENDER_INTERVAL = interval
        publisher = FramePublisher(CONVERSATION, Stream.answer(987002 + int(interval)))
        frames = await frames_of(publisher, [f"w{i} " for i in range(40)], 0.02)
        counts[interval] = sum(1 for frame in frames if frame["html"])

    assert counts[10.0] == 2, "the first frame and the last"
    assert counts[0.1] > counts[10.0]
