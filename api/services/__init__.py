"""The API's business rules, one small class per resource, free of HTTP.

Routes parse the request, call a service and turn its result or its
``ServiceError`` into a response; the services can be tested without sockets.
"""
