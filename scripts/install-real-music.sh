#!/bin/sh
# Installs Debian's planetblupi-music-ogg (ten Ogg Vorbis game-soundtrack tracks, 44.1 kHz stereo, GPL) for
# the test that trains and embeds on real encoded music (test/integration/real-music.test.ts). Idempotent;
# quick when present.
set -eu
DIR=/usr/share/planetblupi/music
if ls "$DIR"/*.ogg >/dev/null 2>&1; then echo "real music: $(ls "$DIR"/*.ogg | wc -l) files in $DIR"; exit 0; fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends planetblupi-music-ogg
echo "real music: $(ls "$DIR"/*.ogg | wc -l) files in $DIR"
