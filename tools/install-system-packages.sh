#!/usr/bin/env bash
# Debian/Ubuntu packages the tests drive for real: Chromium (web app browser tests), and
# pocketsphinx + its English model + sox + espeak-ng (ml-node transcription tests). Installs only
# what is missing, with apt-get as root or through passwordless sudo; anywhere else it names the
# packages and stops, so `pnpm test` fails at once instead of half-way through.
set -euo pipefail
needed=()
command -v chromium >/dev/null 2>&1 || needed+=(chromium)
# Debian bookworm's pocketsphinx ships pocketsphinx_continuous (what src/audio runs), no `pocketsphinx`.
command -v pocketsphinx_continuous >/dev/null 2>&1 || needed+=(pocketsphinx)
[ -d /usr/share/pocketsphinx/model/en-us ] || needed+=(pocketsphinx-en-us)
command -v sox >/dev/null 2>&1 || needed+=(sox)
command -v espeak-ng >/dev/null 2>&1 || needed+=(espeak-ng)
if [ ${#needed[@]} -eq 0 ]; then
  echo "system packages: all present"
  exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  as_root=(none)
fi
if ! command -v apt-get >/dev/null 2>&1 || [ "${as_root[*]}" = none ]; then
  echo "system packages missing: ${needed[*]}" >&2
  echo "install them (Debian/Ubuntu: sudo apt-get install ${needed[*]}), then run the tests again" >&2
  exit 1
fi
echo "system packages: installing ${needed[*]}"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${needed[@]}" >/dev/null
echo "system packages: installed ${needed[*]}"
