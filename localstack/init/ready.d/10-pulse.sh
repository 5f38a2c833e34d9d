#!/usr/bin/env bash
# LocalStack init hook (runs inside the container once LocalStack is ready): the Secrets Manager
# secret the warehouse functions read. It holds a placeholder, not a key: Snowflake itself cannot run
# here, so Load fails and the batch workflow quarantines the file (what tests/integration expects
# unless SNOWFLAKE_* are configured). Idempotent.
set -euo pipefail
if ! awslocal secretsmanager describe-secret --secret-id pulse/snowflake >/dev/null 2>&1; then
  awslocal secretsmanager create-secret --name pulse/snowflake \
    --secret-string "-----BEGIN PRIVATE KEY-----\nplaceholder\n-----END PRIVATE KEY-----" >/dev/null
fi
echo "pulse: secret pulse/snowflake ready"
