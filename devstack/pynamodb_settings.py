"""pynamodb's settings for the local stack's process (``PYNAMODB_CONFIG`` names this file; pynamodb
loads it when first imported). pynamodb keeps a connection pool per model, sized by this file
alone, not by the boto3 clients' ``AWS_MAX_POOL_CONNECTIONS``; here both are that variable."""
import os

max_pool_connections = int(os.environ.get("AWS_MAX_POOL_CONNECTIONS", "10"))
