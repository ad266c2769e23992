#!/usr/bin/env bash
# Debian packages the tests use: Chromium (web app browser tests), pocketsphinx + sox + espeak-ng
# (ml-node transcription tests). Installs only what is missing.
set -euo pipefail
needed=()
command -v chromium >/dev/null 2>&1 || needed+=(chromium)
command -v pocketsphinx >/dev/null 2>&1 || needed+=(pocketsphinx)
[ -d /usr/share/pocketsphinx/model/en-us ] || needed+=(pocketsphinx-en-us)
command -v sox >/dev/null 2>&1 || needed+=(sox)
command -v espeak-ng >/dev/null 2>&1 || needed+=(espeak-ng)
if [ ${#needed[@]} -eq 0 ]; then
  echo "system packages: all present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "system packages missing (${needed[*]}); run as root or install them: apt-get install ${needed[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${needed[@]}" >/dev/null
echo "system packages: installed ${needed[*]}"
