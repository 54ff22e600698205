#!/usr/bin/env bash
# Runs the benchmarks and writes the results to var/bench/ (not committed).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p var/bench
out="var/bench/bench-$(date -u +%Y%m%dT%H%M%SZ).txt"
{
  echo "# Hallkiosk benchmarks, $(date -u +%FT%TZ), $(go version), $(nproc) cores, commit $(git describe --always --dirty 2>/dev/null || echo none)"
  echo "# idcard codec: decode a 1295-byte base-info frame"
  go test -run '^$' -bench 'Decode|Parse' -benchmem -count 3 ./devices/idcard/
  echo "# idcard over a pty: find+select+read; overhead-ms/op = total - wire time at 115200 baud (goal <= 5 ms)"
  go test -run '^$' -bench 'ReadCardPTY' -benchtime 30x -count 3 ./devices/idcard/
  echo "# ticket printer: encode a ticket (goal <= 100 us)"
  go test -run '^$' -bench 'EncodeTicket' -benchmem -count 3 ./devices/escpos/
  echo "# ticket printer: print + confirm a ticket over a pty at 115200 baud (overhead-ms/op = total - wire, goal <= 5 ms) and over TCP"
  go test -run '^$' -bench 'PrintTicket' -benchtime 30x -count 3 ./devices/escpos/
  echo "# queue: issue (walk-in, and from an ID card) and call-next with 5,000 waiting and 50 windows, synchronous=FULL, each beside one bare FULL commit per iteration on the same disk (goal: p99 <= 1.5x the bare commit); three runs, as the disk's tail varies from minute to minute"
  go test -run '^$' -bench 'Issue|CallNext|BareCommit' -benchtime 3s -count 3 ./queue/
  echo "# queue: Stats, what every window console and hall display reads on each call, with 5,000 waiting and 2,000 finished today"
  go test -run '^$' -bench 'Stats' -benchmem -count 3 ./queue/
  echo "# store: one single-row transaction, synchronous=FULL, on this disk (the bare-commit baseline)"
  go test -run '^$' -bench 'CommitFull' -benchmem -count 3 ./internal/store/
  echo "# touch UI: full repaint of the busiest screen at 1920x1080 (goal <= 16 ms) beside clearing the frame"
  go test -run '^$' -bench 'Render|FillBaseline' -benchmem -count 3 ./ui/
  echo "# touch UI: show a 1920x1080 frame in the GLFW window on Xvfb, as an OpenGL texture (Mesa llvmpipe) and with XPutImage, beside copying it in memory"
  go test -run '^$' -bench 'Upload1080p|CopyBaseline' -benchtime 3s ./ui/glfw/
  echo "# touch UI: kioskd -sim full screen 1920x1080 under Xvfb: first frame after exec (goal <= 1 s), idle CPU over 30 s (goal ~0 %), RSS (goal <= 100 MB); present=auto is what kioskd uses here (XPutImage: Xvfb has no GPU), present=gl forces OpenGL (Mesa llvmpipe)"
  go test -run '^$' -bench 'KioskdScreen' -benchtime 1x ./e2e/
  echo "# uplink: drain a 100,000-event backlog to platformsim over loopback beside raw batched POSTs of the same payloads (goals >= 5,000 events/s and >= 0.7x raw)"
  go test -run '^$' -bench 'Drain|RawPost' -benchtime 1x -count 3 ./kiosk/uplink/
  echo "# uplink: a business transaction with its outbox event beside the same transaction without it (goal <= 1.2x)"
  go test -run '^$' -bench 'EnqueueRatio' -count 5 ./kiosk/uplink/
} 2>&1 | tee "$out"
echo "results written to $out"
