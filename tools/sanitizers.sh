#!/bin/sh
# Sanitizer runs of the test suite (issue 10). Each build goes into its own
# library under $WORK (default /tmp/microscopes-sanitizers); nothing touches
# the default library. R itself is not instrumented, so the sanitizer
# runtime is preloaded. Usage, from the package root:
#   tools/sanitizers.sh asan       # ASan + UBSan, whole suite (or ASAN_FILES="test-a.R test-b.R")
#   tools/sanitizers.sh valgrind   # memcheck: runner, parallel, query and consistency tests
#   tools/sanitizers.sh tsan       # ThreadSanitizer: parallel and interrupt tests
#   tools/sanitizers.sh all
# Each prints a summary line per run; logs stay in $WORK.
set -u
WORK=${WORK:-/tmp/microscopes-sanitizers}
PKG=$(pwd)
mkdir -p "$WORK"
lib_of() { gcc -print-file-name="$1"; }

build() {   # build NAME CFLAGS LDFLAGS
  mkdir -p "$WORK/lib-$1"
  cat > "$WORK/Makevars-$1" <<MK
CFLAGS = -g -O1 -fno-omit-frame-pointer $2
LDFLAGS = $3
MK
  R_MAKEVARS_USER="$WORK/Makevars-$1" R CMD INSTALL --preclean --clean --no-multiarch --no-test-load \
    -l "$WORK/lib-$1" "$PKG" > "$WORK/install-$1.log" 2>&1 ||
    { echo "$1: build failed, see $WORK/install-$1.log"; exit 1; }
}

# testthat over some files (or all), against the instrumented library.
tests_cmd() {   # tests_cmd LIB FILES...
  lib=$1; shift
  if [ $# -eq 0 ]; then
    echo "library(testthat); library(microscopes, lib.loc = '$lib'); r <- as.data.frame(test_dir('tests/testthat', package = 'microscopes', load_package = 'installed', reporter = 'summary', stop_on_failure = FALSE)); cat(sprintf('TESTS: %d blocks, %d failed\n', nrow(r), sum(r\$failed > 0 | r\$error)))"
  else
    files=$(printf "'tests/testthat/%s'," "$@" | sed 's/,$//')
    echo "library(testthat); library(microscopes, lib.loc = '$lib'); r <- do.call(rbind, lapply(c($files), function(f) as.data.frame(test_file(f, package = 'microscopes', load_package = 'installed', reporter = 'summary')))); cat(sprintf('TESTS: %d blocks, %d failed\n', nrow(r), sum(r\$failed > 0 | r\$error)))"
  fi
}

run_asan() {
  build asan "-fsanitize=address,undefined -fno-sanitize-recover=undefined" \
    "-fsanitize=address,undefined"
  # Child R processes (fuzz, checkpoint, ulimit tests) inherit the preload;
  # the ulimit -v test cannot run under ASan's shadow memory and skips.
  LD_PRELOAD="$(lib_of libasan.so) $(lib_of libubsan.so)" \
  ASAN_OPTIONS=detect_leaks=0:halt_on_error=1:abort_on_error=1:log_path="$WORK/asan" \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:log_path="$WORK/ubsan" \
  MICROSCOPES_SANITIZER=asan NOT_CRAN=true R_LIBS="$WORK/lib-asan" \
    Rscript -e "$(tests_cmd "$WORK/lib-asan" ${ASAN_FILES:-})" > "$WORK/asan-tests.log" 2>&1
  echo "asan+ubsan: $(grep '^TESTS:' "$WORK/asan-tests.log" || echo 'no summary (crashed?)')"
  reports=$(cat "$WORK"/asan.* "$WORK"/ubsan.* 2>/dev/null | grep -c 'ERROR: AddressSanitizer\|runtime error')
  echo "asan+ubsan: $reports sanitizer reports (logs: $WORK/asan.*, $WORK/ubsan.*)"
}

run_valgrind() {
  build valgrind "" ""
  for f in test-runner.R test-parallel.R test-query.R test-state-consistency.R; do
    MICROSCOPES_SANITIZER=valgrind NOT_CRAN=true R_LIBS="$WORK/lib-valgrind" \
      R -d "valgrind --error-exitcode=0 --track-origins=no --log-file=$WORK/valgrind-$f.%p.log" \
      --vanilla --slave -e "$(tests_cmd "$WORK/lib-valgrind" "$f")" > "$WORK/valgrind-$f.out" 2>&1
    echo "valgrind $f: $(grep '^TESTS:' "$WORK/valgrind-$f.out" || echo 'no summary')"
  done
  echo "valgrind error summaries:"
  grep -h "ERROR SUMMARY" "$WORK"/valgrind-*.log | sed 's/^==[0-9]*== //' | sort | uniq -c
  echo "valgrind definitely lost (per process, R's own allocations included):"
  grep -h "definitely lost" "$WORK"/valgrind-*.log | sed 's/^==[0-9]*== *//' | sort | uniq -c
}

run_tsan() {
  build tsan "-fsanitize=thread" "-fsanitize=thread"
  # cli's timer thread sets a flag that the main thread reads: cli's design,
  # not ours; suppressed.
  printf 'race:cli_progress_set\nrace:clic_thread_func\nrace:cli__timer\n' > "$WORK/tsan.supp"
  # /bin/sh (dash) does not start with libtsan preloaded, so the R binary
  # is started directly (as bin/R would) and the preload is dropped for the
  # child processes the tests start.
  rhome=$(R RHOME)
  env R_HOME="$rhome" R_SHARE_DIR="$(Rscript -e 'cat(R.home("share"))')" \
    R_INCLUDE_DIR="$(Rscript -e 'cat(R.home("include"))')" \
    R_DOC_DIR="$(Rscript -e 'cat(R.home("doc"))')" \
    LD_PRELOAD="$(lib_of libtsan.so)" \
    TSAN_OPTIONS="suppressions=$WORK/tsan.supp:log_path=$WORK/tsan:halt_on_error=0" \
    MICROSCOPES_SANITIZER=tsan NOT_CRAN=true R_LIBS="$WORK/lib-tsan" \
    "$rhome/bin/exec/R" --vanilla --slave \
    -e "Sys.unsetenv('LD_PRELOAD'); $(tests_cmd "$WORK/lib-tsan" test-parallel.R test-reliability.R test-feature-hp-threads.R)" \
    > "$WORK/tsan-tests.log" 2>&1
  echo "tsan: $(grep '^TESTS:' "$WORK/tsan-tests.log" || echo 'no summary (crashed?)')"
  echo "tsan: $(cat "$WORK"/tsan.* 2>/dev/null | grep -c 'WARNING: ThreadSanitizer') ThreadSanitizer warnings (logs: $WORK/tsan.*)"
}

case "${1:-all}" in
  asan) run_asan ;;
  valgrind) run_valgrind ;;
  tsan) run_tsan ;;
  all) run_asan; run_tsan; run_valgrind ;;
  *) echo "usage: $0 asan|valgrind|tsan|all"; exit 2 ;;
esac
