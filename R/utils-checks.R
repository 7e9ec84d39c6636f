# Argument checks shared by every exported function. Each one names the
# argument in the user's terms and says what was expected, so that errors read
# the same everywhere (STYLE.md, "R habits").

abort_arg <- function(arg, msg, call = caller_call()) {
  force(call)
  stop(microscopes_condition(sprintf("`%s` %s", arg, msg),
                             class = "microscopes_error_argument", call = call))
}

# An error condition that a user can catch by class (`microscopes_error`,
# or the finer `microscopes_error_argument`) and that prints like
# simpleError: "Error in <call> : <message>". It keeps "simpleError" as its
# first class, which is what it is (a message and a call): testthat's
# snapshots name the first class, so snapshots of errors made before the
# classes existed (here and on other branches) stay valid.
microscopes_condition <- function(message, class, call = NULL) {
  structure(class = c("simpleError", class, "microscopes_error", "error", "condition"),
            list(message = message, call = call))
}

caller_call <- function(n = 2) {
  # The call of the exported function that asked for the check, so that the
  # error says `dataview(Y)`, not `check_...()`. Counted in frames of the
  # caller's callers: sys.call(-n) would count frames of promise evaluation.
  sys.call(sys.parent(n))
}

describe_type <- function(x) {
  if (is.null(x)) return("NULL")
  if (is.data.frame(x)) return("a data frame")
  if (is.factor(x)) return("a factor")
  if (is.matrix(x)) return(with_article(sprintf("%s matrix", typeof(x))))
  if (is.array(x)) return(with_article(sprintf("%s array", typeof(x))))
  if (is.function(x)) return("a function")
  if (is.object(x)) return(sprintf("an object of class `%s`", class(x)[1]))
  if (is.list(x)) return(if (length(x) == 0L) "an empty list" else "a list")
  if (length(x) == 1L) return(with_article(sprintf("%s value", typeof(x))))
  sprintf("%s vector of length %d", with_article(typeof(x)), length(x))
}

with_article <- function(words) {
  paste(if (grepl("^[aeiou]", words)) "an" else "a", words)
}

check_whole_number <- function(x, arg, min = 0, max = .Machine$integer.max,
                               call = caller_call()) {
  force(call)
  ok <- is.numeric(x) && length(x) == 1L && !is.na(x) && is.finite(x) &&
    x == round(x) && x >= min && x <= max
  if (!ok) {
    too_big <- is.numeric(x) && length(x) == 1L && isTRUE(x > max)
    range <- sprintf(">= %s", format(min))
    if (too_big || max < .Machine$integer.max) {
      range <- sprintf("between %s and %s", format(min), format(max, scientific = FALSE))
    }
    abort_arg(arg, sprintf("must be a single whole number %s, not %s.",
                           range, describe_value(x)), call = call)
  }
  as.integer(x)
}

check_positive_number <- function(x, arg, call = caller_call()) {
  force(call)
  ok <- is.numeric(x) && length(x) == 1L && !is.na(x) && is.finite(x) && x > 0
  if (!ok) {
    abort_arg(arg, sprintf("must be a single finite number > 0, not %s.",
                           describe_value(x)), call = call)
  }
  as.double(x)
}

check_flag <- function(x, arg, call = caller_call()) {
  force(call)
  if (!is.logical(x) || length(x) != 1L || is.na(x)) {
    abort_arg(arg, sprintf("must be TRUE or FALSE, not %s.", describe_value(x)),
              call = call)
  }
  x
}

check_class <- function(x, class, arg, what, call = caller_call()) {
  force(call)
  if (!inherits(x, class)) {
    abort_arg(arg, sprintf("must be %s, not %s.", what, describe_type(x)),
              call = call)
  }
  invisible(x)
}

describe_value <- function(x) {
  if (is.numeric(x) && length(x) == 1L) return(format(x))
  if (is.logical(x) && length(x) == 1L) return(format(x))
  if (is.character(x) && length(x) == 1L) return(sprintf("\"%s\"", x))
  describe_type(x)
}

# Signals an interrupt condition, as a Ctrl-C does at the top level:
# `tryCatch(interrupt = )` and `withCallingHandlers()` see it, `try()` does
# not swallow it, and, unhandled, it ends the computation. The C side calls
# it (src/r_glue.c, poll_guard_raise) once its workers have stopped.
signal_interrupt <- function(message, call = NULL) {
  cond <- structure(class = c("interrupt", "condition"),
                    list(message = message, call = call))
  signalCondition(cond)
  invokeRestart("abort")
}
