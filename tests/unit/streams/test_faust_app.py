"""WorkerApp: Faust's app whose Kafka consumer waits at most FETCH_MAX_WAIT_MS a fetch."""

import asyncio

from chargestream.streams.faust_app import FETCH_MAX_WAIT_MS, FETCH_MIN_BYTES, WorkerApp


async def test_the_worker_consumer_is_built_to_fetch_often() -> None:
    app = WorkerApp("fetch-test", broker="kafka://127.0.0.1:9", store="memory://")
    thread = app.consumer._thread  # Faust's consumer thread, not started

    consumer = thread._create_worker_consumer(app.transport)  # aiokafka connects in start()
    await consumer.stop()
    for loop in {thread.loop, thread.thread_loop} - {asyncio.get_running_loop()}:
        loop.close()

    assert (consumer._fetch_max_wait_ms, consumer._fetch_min_bytes) == (
        FETCH_MAX_WAIT_MS,
        FETCH_MIN_BYTES,
    )
    assert FETCH_MAX_WAIT_MS < 1500  # Faust's own, the delay this app exists to bound
