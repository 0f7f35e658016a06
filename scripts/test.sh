#!/usr/bin/env bash
# Runs the whole suite: prepares Docker and the test image, then unit and integration tests.
# Extra arguments go to Maven, e.g. scripts/test.sh -Dit.test=SshTransportIT
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/test-env.sh
exec mvn -B -ntp verify "$@"
