"""Apache Cassandra 5.0 as a single node for development and tests."""

from __future__ import annotations

import json
from pathlib import Path

from chargestream.services.process import HOST, port_accepts
from chargestream.services.service import JvmService
from chargestream.services.tools import Java

CASSANDRA_VERSION = "5.0.9"

# The module flags of Cassandra's conf/jvm17-server.options: Cassandra reaches into
# JDK internals (off-heap memory, direct buffers, JMX, instrumentation).
_JDK17_ACCESS = {
    "--add-exports": (
        "java.base/jdk.internal.misc",
        "java.base/jdk.internal.ref",
        "java.base/sun.nio.ch",
        "java.base/java.lang.ref",
        "java.management.rmi/com.sun.jmx.remote.internal.rmi",
        "java.rmi/sun.rmi.registry",
        "java.rmi/sun.rmi.server",
        "java.sql/java.sql",
        "jdk.unsupported/sun.misc",
        "jdk.compiler/com.sun.tools.javac.file",
        "jdk.attach/sun.tools.attach",
    ),
    "--add-opens": (
        "java.base/java.io",
        "java.base/java.lang",
        "java.base/java.lang.module",
        "java.base/java.lang.reflect",
        "java.base/java.util",
        "java.base/jdk.internal.loader",
        "java.base/jdk.internal.math",
        "java.base/jdk.internal.module",
        "java.base/jdk.internal.ref",
        "java.base/jdk.internal.reflect",
        "java.base/jdk.internal.util.jar",
        "java.base/sun.nio.ch",
        "jdk.compiler/com.sun.tools.javac",
        "jdk.management/com.sun.management.internal",
    ),
}

_LOGBACK = """\
<configuration scan="false">
  <appender name="FILE" class="ch.qos.logback.core.rolling.RollingFileAppender">
    <file>{log}</file>
    <rollingPolicy class="ch.qos.logback.core.rolling.FixedWindowRollingPolicy">
      <fileNamePattern>{log}.%i</fileNamePattern>
      <minIndex>1</minIndex>
      <maxIndex>3</maxIndex>
    </rollingPolicy>
    <triggeringPolicy class="ch.qos.logback.core.rolling.SizeBasedTriggeringPolicy">
      <maxFileSize>10MB</maxFileSize>
    </triggeringPolicy>
    <encoder>
      <pattern>%-5level [%thread] %date{{ISO8601}} %logger{{20}} - %msg%n</pattern>
    </encoder>
  </appender>
  <logger name="org.apache.cassandra" level="INFO"/>
  <root level="WARN">
    <appender-ref ref="FILE"/>
  </root>
</configuration>
"""


class Cassandra(JvmService):
    """A one-node Cassandra cluster: CQL on ``port``, gossip on ``storage_port``."""

    name = "cassandra"
    main_class = "org.apache.cassandra.service.CassandraDaemon"
    artifacts = (f"org.apache.cassandra:cassandra-all:{CASSANDRA_VERSION}",)
    download_hint = " (a first run downloads about 70 MB)"

    def __init__(self, base_dir: Path, port: int, storage_port: int | None = None) -> None:
        super().__init__(base_dir, port)
        self.storage_port = port + 1 if storage_port is None else storage_port

    @property
    def log_file(self) -> Path:
        return self.home / "logs" / "system.log"

    @property
    def config_file(self) -> Path:
        return self.home / "cassandra.yaml"

    def ports(self) -> tuple[int, ...]:
        return (self.port, self.storage_port)

    def settings(self) -> dict[str, object]:
        """cassandra.yaml, sized for a 2-core development machine."""
        data = self.home / "data"
        allow_all = "org.apache.cassandra.auth.AllowAll"
        return {
            "cluster_name": "chargestream",
            "num_tokens": 16,
            "partitioner": "org.apache.cassandra.dht.Murmur3Partitioner",
            "storage_compatibility_mode": "NONE",  # a new cluster: no 4.x nodes to talk to
            "data_file_directories": [str(data / "data")],
            "commitlog_directory": str(data / "commitlog"),
            "saved_caches_directory": str(data / "saved_caches"),
            "hints_directory": str(data / "hints"),
            "cdc_raw_directory": str(data / "cdc_raw"),
            "seed_provider": [
                {
                    "class_name": "org.apache.cassandra.locator.SimpleSeedProvider",
                    "parameters": [{"seeds": f"{HOST}:{self.storage_port}"}],
                }
            ],
            "listen_address": HOST,
            "rpc_address": HOST,
            "storage_port": self.storage_port,
            "native_transport_port": self.port,
            "start_native_transport": True,
            "endpoint_snitch": "SimpleSnitch",
            "authenticator": {"class_name": f"{allow_all}Authenticator"},
            "authorizer": {"class_name": f"{allow_all}Authorizer"},
            "role_manager": {"class_name": "org.apache.cassandra.auth.CassandraRoleManager"},
            "network_authorizer": {"class_name": f"{allow_all}NetworkAuthorizer"},
            "commitlog_sync": "periodic",
            "commitlog_sync_period": "10000ms",
            "commitlog_segment_size": "16MiB",
            "concurrent_reads": 8,
            "concurrent_writes": 8,
            "concurrent_counter_writes": 8,
            "concurrent_materialized_view_writes": 4,
            "concurrent_compactors": 1,
            "memtable_flush_writers": 1,
            "memtable_heap_space": "128MiB",
            "memtable_offheap_space": "128MiB",
            "key_cache_size": "16MiB",
            "row_cache_size": "0MiB",
            "counter_cache_size": "8MiB",
            "prepared_statements_cache_size": "16MiB",
            "file_cache_size": "64MiB",
            "networking_cache_size": "16MiB",
            "native_transport_max_threads": 32,
            "compaction_throughput": "64MiB/s",
            "auto_snapshot": False,  # tests drop keyspaces all the time
            # The store sends unlogged batches of up to 200 rows and about 24 KiB, grouped
            # by replica set (docs/adr/0011-cassandra-write-batching.md): no warning for
            # each, still under the 50 KiB batch_size_fail_threshold that is left as is.
            "batch_size_warn_threshold": "40KiB",
            "unlogged_batch_across_partitions_warn_threshold": 256,
            "materialized_views_enabled": True,
        }

    def configure(self, java: Java, classpath: list[Path]) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        for directory in (self.log_file.parent, self.home / "triggers"):
            directory.mkdir(parents=True, exist_ok=True)
        # JSON is YAML: every value is quoted and escaped the way YAML reads it.
        lines = [f"{key}: {json.dumps(value)}" for key, value in self.settings().items()]
        self.config_file.write_text("# Generated by chargestream services.\n" + "\n".join(lines))
        (self.home / "logback.xml").write_text(_LOGBACK.format(log=self.log_file))

    def jvm_options(self, classpath: list[Path]) -> list[str]:
        access = [
            f"{flag}={package}=ALL-UNNAMED"
            for flag, packages in _JDK17_ACCESS.items()
            for package in packages
        ]
        jamm = next((jar for jar in classpath if jar.name.startswith("jamm-")), None)
        return [
            "-Xms1g",
            "-Xmx1g",
            "-Xss256k",
            "-XX:+UseG1GC",
            "-XX:+ParallelRefProcEnabled",
            "-XX:MaxTenuringThreshold=1",
            "-XX:MaxGCPauseMillis=300",
            "-XX:InitiatingHeapOccupancyPercent=70",
            "-XX:+PerfDisableSharedMem",
            "-XX:+ExitOnOutOfMemoryError",
            *access,
            *([f"-javaagent:{jamm}"] if jamm else []),
            "-Djava.net.preferIPv4Stack=true",
            "-Djdk.attach.allowAttachSelf=true",
            "-Dio.netty.tryReflectionSetAccessible=true",
            "-Dio.netty.allocator.useCacheForAllThreads=true",
            "-Dio.netty.allocator.maxOrder=11",
            f"-Dcassandra.config={self.config_file.as_uri()}",
            f"-Dcassandra.storagedir={self.home / 'data'}",
            f"-Dcassandra.logdir={self.log_file.parent}",
            f"-Dcassandra.triggers_dir={self.home / 'triggers'}",
            f"-Dlogback.configurationFile={self.home / 'logback.xml'}",
            "-Dcassandra-foreground=yes",  # keep stdout/stderr (console.log) open
            "-Dcassandra.skip_wait_for_gossip_to_settle=0",
            "-Dcassandra.ring_delay_ms=1000",
            "-Dcassandra.superuser_setup_delay_ms=0",
        ]

    def answering(self, port: int) -> bool:
        """Whether ``SELECT release_version FROM system.local`` succeeds."""
        if not port_accepts(port):
            return False
        from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile
        from cassandra.policies import RoundRobinPolicy

        profile = ExecutionProfile(load_balancing_policy=RoundRobinPolicy(), request_timeout=5)
        cluster = Cluster(
            [HOST],
            port=port,
            protocol_version=5,
            execution_profiles={EXEC_PROFILE_DEFAULT: profile},
            connect_timeout=5,
            control_connection_timeout=5,
        )
        try:
            session = cluster.connect()
            return session.execute("SELECT release_version FROM system.local").one() is not None
        except Exception:  # NoHostAvailable, timeouts, errors while the node starts
            return False
        finally:
            cluster.shutdown()
