#!/usr/bin/env bash
# Client set-up for the registry-maven end-to-end tests (run by .ci/run as root on Debian).
#
# The tests drive the machine's own Maven (`mvn`, with a JDK). Maven itself is not downloaded:
# it is part of the machine image. The build plugins mvn needs (resources, compiler, surefire,
# jar, install, deploy) come from the machine's local Maven repository, which the tests serve
# through a fixture upstream on 127.0.0.1 — nothing is fetched from Maven Central.
set -euo pipefail

fail() {
  echo "registry-maven ci-setup: $*" >&2
  exit 1
}

command -v mvn >/dev/null 2>&1 || fail "mvn is not installed; the Maven end-to-end tests need Apache Maven 3 and a JDK on PATH"
command -v javac >/dev/null 2>&1 || fail "javac is not installed; the Maven end-to-end tests compile a small project"
mvn -v -B

repo="${BATLEHUB_MAVEN_PLUGIN_REPO:-$HOME/.m2/repository}"
[ -d "$repo" ] || fail "no local Maven repository at $repo (set BATLEHUB_MAVEN_PLUGIN_REPO to one holding the build plugins)"
# Keep in sync with PLUGINS in test/support/mvn.ts.
for plugin in \
  maven-resources-plugin/3.3.1 maven-compiler-plugin/3.13.0 maven-surefire-plugin/3.2.5 \
  maven-jar-plugin/3.4.1 maven-install-plugin/3.1.1 maven-deploy-plugin/3.1.1; do
  name="${plugin%/*}"
  version="${plugin#*/}"
  jar="$repo/org/apache/maven/plugins/$name/$version/$name-$version.jar"
  [ -f "$jar" ] || fail "missing build plugin $name $version in $repo ($jar)"
done
echo "registry-maven ci-setup: mvn and build plugins ready ($repo)"
