# Sourced by scripts/bench.sh and scripts/bench-scaling.sh: what both do when a run ends or is
# killed. bench_cleanup_begin stops the background run (RUN_PID: TERM, then KILL after 30 s);
# bench_cleanup_huge unmounts the runs' hugetlbfs mounts, gives the hugepage count back
# (HUGE_BEFORE) and removes the EAL runtime directories.

bench_cleanup_begin() {
  trap - INT TERM
  if [ -n "$RUN_PID" ] && kill -0 "$RUN_PID" 2>/dev/null; then
    kill -TERM "$RUN_PID" 2>/dev/null || true
    for _ in $(seq 1 150); do kill -0 "$RUN_PID" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$RUN_PID" 2>/dev/null || true
  fi
}

bench_cleanup_huge() {
  for m in /tmp/dlbb-huge-*; do
    [ -d "$m" ] || continue
    umount "$m" 2>/dev/null || true
    rmdir "$m" 2>/dev/null || true
  done
  echo "$HUGE_BEFORE" > /proc/sys/vm/nr_hugepages 2>/dev/null || true
  rm -rf /var/run/dpdk/dlbb*
}
