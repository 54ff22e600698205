#!/usr/bin/env bash
# Installs the Debian packages Hallkiosk needs, skipping what is already installed, so a
# warm machine installs nothing. Usage: scripts/deps.sh run|test|bench
set -euo pipefail

want=(gcc libc6-dev)             # cgo: mattn/go-sqlite3
want+=(fonts-noto-cjk)           # CJK font: simulated printer's ticket images (later: the touch UI)
want+=(espeak-ng)                # Mandarin call announcements, made offline
want+=(libx11-dev libxcursor-dev libxrandr-dev libxinerama-dev libxi-dev libxxf86vm-dev
       libgl-dev libgl1-mesa-dev)  # cgo: the GLFW window of the touch UI (go-gl/glfw, go-gl/gl)
case "${1:-run}" in
  run)   ;;
  test|bench)
         want+=(zbar-tools        # zbarimg decodes the QR codes on printed tickets
               chromium          # headless browser tests of the window console and hall display
               xvfb xauth libgl1-mesa-dri  # the GLFW window under a virtual X server (Mesa llvmpipe)
               xdotool x11-apps  # real X input (clicks) and xwd screenshots in the UI end-to-end test
               imagemagick) ;;   # convert: xwd screenshots to PNG
  *) echo "usage: $0 run|test|bench" >&2; exit 2 ;;
esac

if ! command -v go >/dev/null 2>&1; then
  echo "deps: Go is not on PATH; install Go 1.26 (https://go.dev/dl/) and try again" >&2
  exit 1
fi

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "deps: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
echo "deps: installing ${missing[*]}"
# sudo drops the environment: pass DEBIAN_FRONTEND on its command line.
$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
