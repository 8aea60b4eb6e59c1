#!/usr/bin/env bash
# make kafka: fetch Apache Kafka's broker jars (version pinned in tools/kafka/pom.xml)
# with Maven into .vane/kafka/<version>/libs, once. Never fails: without Java 17+
# or Maven it says why and exits 0, and the Apache Kafka test tier is skipped.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
pom="$here/pom.xml"
version="$(sed -n 's:.*<kafka\.version>\(.*\)</kafka\.version>.*:\1:p' "$pom" | head -n 1)"
home="$root/.vane/kafka/$version"
stamp="$home/fetched.stamp"
rel=".vane/kafka/$version/libs"
note="$root/.vane/kafka/skipped"  # the reason, for the tests' skip and `vane stack --broker kafka`

skip() {
  echo "kafka: $1: the Apache Kafka test tier is skipped"
  mkdir -p "$(dirname "$note")" && echo "$1" >"$note"
  exit 0
}

[ -n "$version" ] || skip "no <kafka.version> in $pom"

java="${JAVA_HOME:+$JAVA_HOME/bin/}java"
command -v "$java" >/dev/null 2>&1 || skip "no Java $([ -n "${JAVA_HOME:-}" ] && echo "at \$JAVA_HOME=$JAVA_HOME" || echo "on PATH")"
found="$("$java" -version 2>&1 | sed -n 's/.*version "\([^"]*\)".*/\1/p' | head -n 1)"
major="${found#1.}"; major="${major%%[.+-]*}"
[[ "$major" =~ ^[0-9]+$ ]] && [ "$major" -ge 17 ] || skip "no Java 17+ (found ${found:-none} at $(command -v "$java"))"

if [ -f "$stamp" ]; then rm -f "$note"; echo "kafka: Apache Kafka $version jars in $rel"; exit 0; fi
command -v mvn >/dev/null 2>&1 || skip "no mvn (Maven) on PATH"

rm -rf "$home/libs" "$home"/classes-*.jsa  # an archive of other jars is useless
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
# Offline first: a warm ~/.m2 needs no network; else fetch from Maven Central.
if ! mvn -B -q -o -f "$pom" package >"$log" 2>&1 && ! mvn -B -q -f "$pom" package >"$log" 2>&1; then
  tail -n 20 "$log" | sed 's/^/kafka:   /'
  skip "mvn could not fetch org.apache.kafka:kafka_2.13:$version (see above)"
fi
if ! ls "$home/libs"/kafka_2.13-*.jar >/dev/null 2>&1; then
  skip "mvn ran but $rel holds no kafka_2.13 jar"
fi
date -u +%FT%TZ >"$stamp"
rm -f "$note"
echo "kafka: Apache Kafka $version jars in $rel"
