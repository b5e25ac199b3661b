"""Why a service refused a request; ``chargestream.api.errors`` maps each to a status."""


class ServiceError(Exception):
    """The message is shown to the caller as is."""


class NotFound(ServiceError):
    """The named resource does not exist."""


class InvalidInput(ServiceError):
    """The request is well-formed but its values cannot be used."""


class NotAvailable(ServiceError):
    """This deployment mode does not offer the feature."""
