"""The faults of `bench/soak.py --faults`: the servers a faulted soak runs
on (a PostgreSQL server and two stream Redis servers of its own, so it can
restart them; RabbitMQ as the broker) and the schedule that hurts them: a
worker SIGKILLed and restarted every few minutes, one stream Redis server
restarted once, PostgreSQL restarted once."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from dataclasses import dataclass, field

from tests.servers import RABBITMQ_URL, PostgresServer, forget_queue, listening, redis_of_its_own, restart


@dataclass
class Faults:
    database: PostgresServer
    shards: list  # EmbeddedRedis servers: the stream state
    broker_url: str
    happened: list[tuple[float, str]] = field(default_factory=list)  # seconds into the run, what

    @classmethod
    def start(cls) -> Faults:
        """Start the servers and point this process's environment (which the
        run's processes inherit, and Django reads next) at them."""
        broker_url = os.environ.get("BROKER_URL") or RABBITMQ_URL
        if broker_url == RABBITMQ_URL and not listening("127.0.0.1", 5672):
            raise SystemExit("--faults runs on RabbitMQ: none on 127.0.0.1:5672 (set BROKER_URL)")
        database = PostgresServer()
        database.start()
        database.create()
        shards = [redis_of_its_own(), redis_of_its_own()]
        os.environ.update(DATABASE_URL=database.url, BROKER_URL=broker_url,
                          STREAM_REDIS_URLS=",".join(f"unix://{shard.socket_path}" for shard in shards))
        return cls(database, shards, broker_url)

    def describe(self) -> str:
        return (f"PostgreSQL of its own (port {self.database.port}) + RabbitMQ + {len(self.shards)} stream Redis "
                f"servers of its own")

    def shard_pids(self) -> dict[str, list[int]]:
        return {f"redis shard {i}": [shard.process.pid] for i, shard in enumerate(self.shards)
                if shard.process is not None}

    def shard_info(self) -> dict[str, tuple[int, int]]:
        """Each stream server's used memory (bytes) and key count."""
        from redis import Redis

        info = {}
        for i, shard in enumerate(self.shards):
            try:
                client = Redis.from_url(f"unix://{shard.socket_path}", socket_timeout=2)
                info[f"redis shard {i}"] = (int(client.info("memory")["used_memory"]), int(client.dbsize()))
            except Exception:  # noqa: BLE001 - restarting: no reading this time
                pass
        return info

    def stop(self, queue: str) -> None:
        try:
            forget_queue(self.broker_url, queue)
        except Exception:  # noqa: BLE001 - clean-up is best effort
            pass
        for shard in self.shards:
            shard.stop()
        self.database.remove()


def schedule(duration: float, kill_every: float) -> list[tuple[float, str]]:
    """When each fault comes: a worker killed every ``kill_every`` seconds,
    the first stream server restarted at a third of the run, PostgreSQL at
    two thirds."""
    kills = [(at, "kill a worker") for at in _range(kill_every, duration, kill_every)]
    return sorted([*kills, (duration / 3, "restart stream Redis 0"), (2 * duration / 3, "restart PostgreSQL")])


def _range(start: float, stop: float, step: float) -> list[float]:
    values, at = [], start
    while at < stop - 1:
        values.append(at)
        at += step
    return values


async def inflict(faults: Faults, run, started: float, duration: float, kill_every: float, worker_command) -> None:
    """Carry out the schedule; each fault is said and kept in ``faults.happened``."""
    kills = 0
    for at, what in schedule(duration, kill_every):
        await asyncio.sleep(max(0.0, started + at - time.monotonic()))
        if what == "kill a worker":
            index = kills % len(run.workers)
            kills += 1
            await asyncio.to_thread(_kill_and_restart, run, index, kills, worker_command)
            what = f"killed worker {index} (SIGKILL) and started another"
        elif what == "restart stream Redis 0":
            await asyncio.to_thread(restart, faults.shards[0], 1.0)
            what = "restarted stream Redis 0 (SIGKILL, down 1 s, back empty)"
        else:
            await asyncio.to_thread(restart, faults.database, 3.0)
            what = "restarted PostgreSQL (immediate stop, down 3 s)"
        faults.happened.append((time.monotonic() - started, what))
        run.say(f"fault: {what}")


def _kill_and_restart(run, index: int, generation: int, worker_command) -> None:
    old = run.workers[index]
    os.killpg(old.pid, signal.SIGKILL)
    old.wait()
    name = next(name for name, process in run.processes.children.items() if process is old)
    del run.processes.children[name]
    run.workers[index] = run.processes.spawn(f"worker{index}-{generation}", worker_command(generation))
