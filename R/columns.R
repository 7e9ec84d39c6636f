# Data frame columns: how dataview() stores them, which model
# default_models() gives each, and whether a column's values fit a model.

dataview_from_data_frame <- function(Y, arg, call) {
  if (ncol(Y) == 0L) {
    abort_arg(arg, "is a data frame without columns; give it one column per feature.", call = call)
  }
  if (nrow(Y) == 0L) {
    abort_arg(arg, "is a data frame without rows; give it one row per entity.", call = call)
  }
  names <- names(Y)
  if (is.null(names) || any(is.na(names) | names == "")) {
    j <- if (is.null(names)) 1L else which(is.na(names) | names == "")[1]
    abort_arg(arg, sprintf("has a column without a name (column %d); name every column.", j),
              call = call)
  }
  if (anyDuplicated(names)) {
    abort_arg(arg, sprintf("has two columns named `%s`; give the columns unique names.",
                           names[anyDuplicated(names)]), call = call)
  }
  columns <- lapply(seq_along(names), function(j) store_column(Y[[j]], names[j], call))
  names(columns) <- names
  structure(list(n = nrow(Y), D = length(columns), colnames = names, source = "data.frame",
                 columns = columns),
            class = "microscopes_dataview")
}

# A column as a dataview keeps it: logical, integer, double, or a factor's
# integer codes with attribute "levels"; every other attribute dropped.
store_column <- function(x, name, call) {
  if (inherits(x, "AsIs")) class(x) <- setdiff(class(x), "AsIs")
  if (is.list(x)) {
    abort_column(name, "is a list column; each column must be logical, a factor, integer or double.",
                 call)
  }
  if (!is.null(dim(x))) {
    abort_column(name, "is a matrix column; each column must be a vector (logical, a factor, integer or double).",
                 call)
  }
  if (is.factor(x)) {
    levels <- levels(x)
    if (anyNA(levels)) {
      abort_column(name, "is a factor with NA as a level; mark missing cells with NA values instead (`factor(x)` drops an NA level).",
                   call)
    }
    return(structure(as.integer(x), levels = levels))
  }
  if (is.character(x)) {
    abort_column(name, "is a character column; convert it to a factor first (`factor()`).", call)
  }
  if (is.object(x)) {
    abort_column(name, sprintf(
      "has class `%s`; convert it to a logical, factor, integer or double column first.",
      class(x)[1]), call)
  }
  if (is.logical(x)) return(as.logical(x))
  if (is.integer(x)) return(as.integer(x))
  if (is.double(x)) return(as.double(x))
  abort_column(name, sprintf("is %s; each column must be logical, a factor, integer or double.",
                             with_article(sprintf("%s column", typeof(x)))), call)
}

column_type <- function(column) {
  if (!is.null(attr(column, "levels"))) return("factor")
  typeof(column)
}

abort_column <- function(name, msg, call) {
  stop(microscopes_condition(sprintf("Column `%s` %s", name, msg),
                             class = c("microscopes_error_column", "microscopes_error_argument"),
                             call = call))
}

#' Default likelihood models for the columns of a data set
#'
#' Chooses one model (see [models]) for each column, from its type:
#'
#' * a logical column, a factor with two levels (its second level counts as
#'   `TRUE`), or an integer or double column whose observed values are all
#'   0 or 1: [beta_bernoulli()];
#' * a factor with `k` > 2 levels (unused levels included):
#'   `dirichlet_discrete(k)`;
#' * a count: an *integer* column whose observed values are all >= 0 and
#'   whose smallest observed value is 0 or 1: [gamma_poisson()];
#' * every other integer column and every double column:
#'   [normal_inverse_chisq()].
#'
#' The count rule keeps integer measurements out of the count models: a
#' mass in grams (`MASS::birthwt$bwt`, 709 to 4990), a year or a horsepower
#' is stored as integer but never comes near 0, and a Poisson model of it
#' would be far too narrow. Counts of events (visits, days absent) reach 0
#' or 1; a count that never does (`warpbreaks$breaks`, 10 to 70) must be
#' declared one, as in the examples. Doubles stay normal even when every
#' value is whole: store a count as integer (`as.integer()`) to have it
#' modelled as one. A factor with
#' fewer than two levels is an error: it carries no information. Replace
#' any entry of the result to override the choice, for example
#' `models$Passengers <- gamma_poisson()`.
#'
#' A logical or 0/1 matrix (or a dataview of one) gives
#' `rep(list(beta_bernoulli()), ncol(data))`, without a message.
#'
#' @param data A data frame, a dataview, or a logical or 0/1 matrix.
#' @param quiet `FALSE` (the default) reports in a message the model chosen
#'   for each column of a data frame and why; `TRUE` says nothing.
#' @return A list of models, one per column, named by the columns of a data
#'   frame; give it to [model_definition()].
#' @examples
#' default_models(InsectSprays)   # `count` is stored as double: normal
#' sprays <- transform(InsectSprays, count = as.integer(count))
#' models <- default_models(sprays) # now a count: gamma_poisson()
#' # warpbreaks$breaks counts breaks but starts at 10: say it is a count
#' models <- default_models(warpbreaks, quiet = TRUE)
#' models$breaks <- gamma_poisson()
#' model_definition(warpbreaks, models)
#' @export
default_models <- function(data, quiet = FALSE) {
  call <- sys.call()
  quiet <- check_flag(quiet, "quiet")
  if (inherits(data, "microscopes_dataview")) {
    view <- data
  } else if (is.data.frame(data) || is.matrix(data)) {
    view <- dataview_for_arg(data, "data", call = call)
  } else {
    abort_arg("data", sprintf("must be a data frame, a dataview or a binary matrix, not %s.",
                              describe_type(data)))
  }
  if (!identical(view$source, "data.frame")) {
    return(rep(list(beta_bernoulli()), view$D))
  }
  choices <- lapply(seq_len(view$D), function(j) {
    default_model_for_column(view$columns[[j]], view$colnames[j], call)
  })
  models <- lapply(choices, `[[`, "model")
  names(models) <- view$colnames
  if (!quiet) {
    labels <- vapply(models, format, character(1))
    reasons <- vapply(choices, `[[`, character(1), "reason")
    lines <- sprintf("  %s  %s  %s", format(view$colnames), format(labels), reasons)
    message(structure(class = c("microscopes_message_default_models", "message", "condition"),
                      list(message = paste0("Models chosen by default_models() (`quiet = TRUE` hides this):\n",
                                            paste(lines, collapse = "\n"), "\n"),
                           call = NULL)))
  }
  models
}

# The model of one stored column, with the reason default_models() gives.
default_model_for_column <- function(column, name, call) {
  observed <- column[!is.na(column)]
  levels <- attr(column, "levels")
  if (!is.null(levels)) {
    k <- length(levels)
    if (k < 2L) {
      abort_column(name, sprintf(
        "is a factor with %s; a model needs two levels or more: drop the column or give the factor the levels it can take (`factor(x, levels = )`).",
        if (k == 1L) "one level" else "no levels"), call)
    }
    if (k == 2L) {
      return(list(model = beta_bernoulli(),
                  reason = sprintf("factor with 2 levels (TRUE = \"%s\")", levels[2])))
    }
    return(list(model = dirichlet_discrete(k), reason = sprintf("factor with %d levels", k)))
  }
  if (is.logical(column)) return(list(model = beta_bernoulli(), reason = "logical"))
  type <- typeof(column)
  if (length(observed) > 0L && all(observed == 0 | observed == 1)) {
    return(list(model = beta_bernoulli(), reason = sprintf("%s, values 0 and 1 only", type)))
  }
  if (is.integer(column)) {
    if (length(observed) == 0L) {
      return(list(model = normal_inverse_chisq(), reason = "integer, no observed value"))
    }
    low <- min(observed)
    if (low >= 0L && low <= 1L) {
      return(list(model = gamma_poisson(), reason = sprintf("integer counts %d to %d", low, max(observed))))
    }
    return(list(model = normal_inverse_chisq(), reason = sprintf(
      "integer %d to %d (smallest above 1: not taken as a count)", low, max(observed))))
  }
  list(model = normal_inverse_chisq(), reason = "double")
}

# The values of stored column `column` (feature j, called `name`) for
# `model`, checked: a logical vector for beta_bernoulli(), levels 0..k-1
# for dirichlet_discrete(k), counts for gamma_poisson() and
# beta_negative_binomial(), doubles for normal_inverse_chisq(); NA where a
# cell is missing. A value that does not fit is an error naming the column
# and the row of the first such value.
column_values <- function(column, model, name, j, call) {
  levels <- attr(column, "levels")
  type <- if (!is.null(levels)) "factor" else typeof(column)
  label <- format(model)
  refuse <- function(what) {
    abort_column(name, sprintf("is %s, which %s does not model; %s", type_phrase(type, levels),
                               label, what), call)
  }
  first_bad <- function(bad, need) {
    row <- which(bad)[1]
    value <- if (type == "factor") sprintf("\"%s\"", levels[column[row]]) else format(column[row])
    abort_column(name, sprintf("holds %s in row %d; %s needs %s.", value, row, label, need), call)
  }
  observed <- !is.na(column)
  switch(model$kind,
    bb = , bbnc = {
      if (type == "logical") return(column)
      if (type == "factor") {
        if (length(levels) > 2L) {
          refuse(sprintf("use dirichlet_discrete(%d).", length(levels)))
        }
        return(as.integer(column) == 2L)
      }
      bad <- observed & !(column == 0 | column == 1)
      if (any(bad)) first_bad(bad, "0, 1 or NA")
      column == 1
    },
    dd = {
      k <- model$parameters$k
      if (type == "factor") {
        if (length(levels) > k) {
          abort_column(name, sprintf(
            "is a factor with %d levels, more than the %d of its model %s; use dirichlet_discrete(%d).",
            length(levels), k, label, length(levels)), call)
        }
        return(as.integer(column) - 1L)
      }
      if (type != "integer") {
        refuse(sprintf("give it as a factor (`factor()`) or as integer levels 1 to %d.", k))
      }
      bad <- observed & (column < 1L | column > k)
      if (any(bad)) first_bad(bad, sprintf("levels 1 to %d", k))
      column - 1L
    },
    gp = , bnb = {
      if (type == "integer") {
        bad <- observed & column < 0L
        if (any(bad)) first_bad(bad, "a count (0, 1, 2, ...)")
        return(column)
      }
      if (type != "double") refuse("give counts as an integer column.")
      bad <- observed & !(is.finite(column) & column >= 0 & column == round(column) &
                            column <= .Machine$integer.max)
      if (any(bad)) first_bad(bad, "a count (0, 1, 2, ... up to 2147483647)")
      as.integer(column)
    },
    nich = {
      if (!type %in% c("integer", "double")) refuse("give it as a number (integer or double).")
      bad <- observed & !is.finite(column)
      if (any(bad)) first_bad(bad, "finite numbers")
      as.double(column)
    },
    stop(sprintf("unknown model kind \"%s\"", model$kind)))
}

type_phrase <- function(type, levels) {
  switch(type,
    factor = sprintf("a factor with %d levels", length(levels)),
    logical = "a logical column",
    integer = "an integer column",
    double = "a double column",
    with_article(sprintf("%s column", type)))
}
