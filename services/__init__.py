"""Local Kafka and Cassandra for development, tests and benchmarks (``chargestream services``).

The servers run as plain JVM processes from jars that Maven resolves from Maven Central;
see docs/services.md.
"""

from chargestream.services.launcher import ServiceSet
from chargestream.services.process import ServiceError
from chargestream.services.service import ServiceStatus

__all__ = ["ServiceError", "ServiceSet", "ServiceStatus"]
