#!/usr/bin/env bash
# Deploys every Pulse stack (cdk deploy --all: storage, state, streaming, batch, catalog, gold,
# observability) to the LocalStack of compose.yaml with cdklocal, and writes the stack outputs
# (bucket names, table names, state machine ARNs) to .build/localstack-outputs.json for
# tests/integration. The functions must be built first for the architecture LocalStack runs (make
# localstack-up builds them for x86_64).
#
# The deployment's custom resources run there as on AWS: PulseStreaming's creates the Kafka topics
# on the new MSK Serverless cluster (LocalStack emulates MSK in its Pro edition only: on the
# community edition PulseStreaming, and PulseCatalog after it, fail to create and roll back), and
# PulseBatch's applies the warehouse DDL to the Snowflake the secret names (LocalStack's Snowflake
# emulator, or a real account). Docker is not available where Pulse's CI runs, so this script is
# not run there; `make test` runs the same cloud assembly on localstack/cloud instead.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash localstack/tools/cdklocal.sh
export AWS_ENDPOINT_URL="${AWS_ENDPOINT_URL:-http://localhost:4566}"
export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
export CDK_DEFAULT_ACCOUNT=000000000000 CDK_DEFAULT_REGION=us-east-1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 CDK_DISABLE_CLI_TELEMETRY=1
case "${PULSE_LAMBDA_ARCH:-amd64}" in
  amd64) arch=x86_64 ;;
  arm64) arch=arm64 ;;
  *) echo "PULSE_LAMBDA_ARCH must be amd64 or arm64" >&2; exit 1 ;;
esac
secret="$(docker compose -f localstack/compose.yaml exec -T localstack \
  awslocal secretsmanager describe-secret --secret-id pulse/snowflake --query ARN --output text)"
cdklocal=.tools/cdklocal/node_modules/.bin/cdklocal
echo "deploy: bootstrapping aws://000000000000/us-east-1 on $AWS_ENDPOINT_URL"
"$cdklocal" bootstrap aws://000000000000/us-east-1 --no-notices
echo "deploy: every stack (lambda architecture $arch)"
mkdir -p .build
"$cdklocal" deploy --all --require-approval never --no-notices \
  --context lambdaArchitecture="$arch" --context snowflakeSecretArn="$secret" --context mskServerless=true \
  --outputs-file .build/localstack-outputs.json
echo "deploy: outputs in .build/localstack-outputs.json"
