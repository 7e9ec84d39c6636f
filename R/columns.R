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
  if (!is.null(dim(x))) return(store_matrix_column(x, name, call))
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

# A matrix column (one vector-valued feature, DECISIONS.md): kept as an
# n x w logical, integer or double matrix with its column names (the names
# of the vector's entries), every other attribute dropped.
store_matrix_column <- function(x, name, call) {
  if (length(dim(x)) != 2L) {
    abort_column(name, sprintf("is an array with %d dimensions; a vector-valued feature is a matrix column (one row per entity).",
                               length(dim(x))), call)
  }
  if (ncol(x) == 0L) {
    abort_column(name, "is a matrix column without columns; a vector-valued feature needs at least one.",
                 call)
  }
  if (is.object(x) || !(is.logical(x) || is.integer(x) || is.double(x))) {
    what <- if (is.object(x)) sprintf("of class `%s`", class(x)[1]) else
      sprintf("of type %s", typeof(x))
    abort_column(name, sprintf(
      "is a matrix column %s; a vector-valued feature is a logical, integer or double matrix.",
      what), call)
  }
  out <- x
  attributes(out) <- NULL
  dim(out) <- dim(x)
  if (!is.null(colnames(x))) colnames(out) <- colnames(x)
  out
}

column_type <- function(column) {
  if (!is.null(attr(column, "levels"))) return("factor")
  if (is.matrix(column)) return(sprintf("%s matrix", typeof(column)))
  typeof(column)
}

# dataview(Y, vectors = ): each named element (a vector-valued feature)
# binds the named columns of Y into one matrix column, at the first one's
# place, its columns named after them.
bind_vector_columns <- function(Y, vectors, call) {
  if (is.null(vectors)) return(Y)
  if (!is.data.frame(Y)) {
    abort_arg("vectors", "is only for a data frame `Y`: it names the columns of a vector-valued feature.",
              call = call)
  }
  if (!is.list(vectors) || length(vectors) == 0L || is.null(names(vectors)) ||
      any(is.na(names(vectors)) | names(vectors) == "")) {
    abort_arg("vectors", sprintf(
      "must be a named list of column names, such as `list(xy = c(\"x\", \"y\"))`, not %s.",
      describe_type(vectors)), call = call)
  }
  if (anyDuplicated(names(vectors))) {
    abort_arg("vectors", sprintf("names the feature `%s` twice.",
                                 names(vectors)[anyDuplicated(names(vectors))]), call = call)
  }
  used <- character()
  for (v in names(vectors)) {
    cols <- vectors[[v]]
    if (!is.character(cols) || length(cols) == 0L || anyNA(cols)) {
      abort_arg("vectors", sprintf("element `%s` must be the names of its columns (a character vector).", v),
                call = call)
    }
    missing <- setdiff(cols, names(Y))
    if (length(missing) > 0L) {
      abort_arg("vectors", sprintf("element `%s` names column `%s`, which is not in the data.",
                                   v, missing[1]), call = call)
    }
    twice <- intersect(cols, c(used, cols[duplicated(cols)]))
    if (length(twice) > 0L) {
      abort_arg("vectors", sprintf("names column `%s` in two vector-valued features (or twice in one); each column belongs to one feature.",
                                   twice[1]), call = call)
    }
    others <- setdiff(names(Y), c(used, cols))
    if (v %in% others) {
      abort_arg("vectors", sprintf("names the feature `%s`, but the data has another column of that name.", v),
                call = call)
    }
    for (col in cols) {
      x <- Y[[col]]
      if (!is.null(dim(x)) || is.factor(x) || !(is.logical(x) || is.integer(x) || is.double(x)) ||
          is.object(x)) {
        abort_column(col, sprintf(
          "cannot be part of the vector-valued feature `%s`: its columns must be logical, integer or double vectors.",
          v), call)
      }
    }
    types <- vapply(cols, function(col) typeof(Y[[col]]), character(1))
    M <- do.call(cbind, lapply(cols, function(col) Y[[col]]))
    if (any(types == "double")) storage.mode(M) <- "double"
    colnames(M) <- cols
    at <- match(cols[1], names(Y))
    keep <- setdiff(seq_along(Y), match(cols[-1], names(Y)))
    out <- Y[keep]
    out[[cols[1]]] <- M
    names(out)[names(out) == cols[1]] <- v
    Y <- out
    used <- c(used, cols)
  }
  Y
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
#' A matrix column of a data frame (one vector-valued feature, see
#' [dataview()]) gets a model of vectors:
#'
#' * an *integer* matrix column whose observed entries are all >= 0 (with
#'   at least two columns): `dirichlet_multinomial(ncol)`, its rows taken as
#'   counts;
#' * a double matrix column, or an integer one with a negative entry, is
#'   real-valued: `normal_inverse_wishart(ncol)` where this build has it,
#'   otherwise an error asking for a model to be declared. As for scalar
#'   columns, whole numbers stored as double stay real-valued: store counts
#'   as integer (`storage.mode(m) <- "integer"`);
#' * a logical matrix column has no default (an error naming it): a set of
#'   binary indicators is best given as separate logical columns, each
#'   [beta_bernoulli()]; declare `dirichlet_multinomial(ncol)` to take
#'   `TRUE` as a count of 1.
#'
#' A logical or 0/1 matrix (or a dataview of one) gives
#' `rep(list(beta_bernoulli()), ncol(data))`, without a message, as
#' before.
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
  if (is.matrix(column)) return(default_model_for_matrix(column, name, call))
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

# A matrix column: an integer matrix of counts (observed entries >= 0) is
# dirichlet_multinomial(ncol); a double matrix, or an integer one with a
# negative entry, is real-valued (normal_inverse_wishart(ncol), DECISIONS.md,
# when this build has it); a logical matrix has no default.
default_model_for_matrix <- function(column, name, call) {
  w <- ncol(column)
  if (is.logical(column)) {
    abort_column(name, sprintf(paste(
      "is a logical matrix column, which has no default model: give its %d columns as",
      "separate logical columns (each beta_bernoulli()), or declare",
      "dirichlet_multinomial(%d) to model each row as counts."), w, w), call)
  }
  observed <- column[!is.na(column)]
  if (is.integer(column) && all(observed >= 0L)) {
    if (w < 2L) {
      abort_column(name, "is an integer matrix column with one column; give it as an integer column (a count) instead.",
                   call)
    }
    return(list(model = dirichlet_multinomial(w),
                reason = sprintf("integer matrix of counts, %d columns", w)))
  }
  default_real_matrix_model(column, name, call)
}

# The default model of a real-valued matrix column.
default_real_matrix_model <- function(column, name, call) {
  w <- ncol(column)
  list(model = normal_inverse_wishart(w),
       reason = sprintf("%s matrix, %d columns", typeof(column), w))
}

# The values of stored column `column` (feature j, called `name`) for
# `model`, checked: a logical vector for beta_bernoulli(), levels 0..k-1
# for dirichlet_discrete(k), counts for gamma_poisson() and
# beta_negative_binomial(), doubles for normal_inverse_chisq(); NA where a
# cell is missing. A value that does not fit is an error naming the column
# and the row of the first such value.
column_values <- function(column, model, name, j, call) {
  levels <- attr(column, "levels")
  type <- column_type(column)
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
  if (model$kind %in% vector_kinds) {
    return(vector_column_values(column, model, name, type, levels, call))
  }
  if (is.matrix(column)) {
    abort_column(name, sprintf(
      "is a matrix column (a vector-valued feature of %d columns), which %s does not model; give it one model of vectors such as dirichlet_multinomial(%d), or its columns as separate columns.",
      ncol(column), label, ncol(column)), call)
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

# The n x w matrix of a vector-valued feature's column for `model` (dm:
# an integer matrix of counts, each row all NA or all observed), checked.
vector_column_values <- function(column, model, name, type, levels, call) {
  label <- format(model)
  w <- model_cell_width(model)
  if (!is.matrix(column)) {
    abort_column(name, sprintf(
      "is %s, but %s models a vector of %d entries per row: give it as a matrix column (`df$%s <- cbind(...)`, or `dataview(df, vectors = )`).",
      type_phrase(type, levels), label, w, name), call)
  }
  if (ncol(column) != w) {
    abort_column(name, sprintf("is a matrix column with %d columns, but its model %s needs %d.",
                               ncol(column), label, w), call)
  }
  switch(model$kind,
    dm = {
      missing <- is.na(column)
      partly <- rowSums(missing) > 0L & rowSums(missing) < w
      if (any(partly)) {
        abort_column(name, sprintf(paste(
          "has row %d partly NA; %s models a row's counts given its total, so a row is",
          "either all NA (unobserved) or all observed."), which(partly)[1], label), call)
      }
      x <- column
      if (is.logical(x)) storage.mode(x) <- "integer"
      bad <- !missing & !(is.finite(x) & x >= 0 & x == round(x) & x <= .Machine$integer.max)
      if (any(bad)) {
        at <- which(bad, arr.ind = TRUE)[1, ]
        abort_column(name, sprintf("holds %s in row %d, column %d; %s needs counts (0, 1, 2, ...).",
                                   format(column[at[1], at[2]]), at[1], at[2], label), call)
      }
      totals <- rowSums(x, na.rm = TRUE)
      if (any(totals > .Machine$integer.max)) {
        abort_column(name, sprintf("has row %d whose counts sum to more than 2147483647.",
                                   which(totals > .Machine$integer.max)[1]), call)
      }
      storage.mode(x) <- "integer"
      attributes(x) <- list(dim = dim(column))
      x
    },
    niw = {
      # real vectors; NA entries are missing (a row partly NA is fitted by
      # data augmentation, pack_blocks(); taken by queries)
      if (!is.numeric(column)) {
        abort_column(name, sprintf("is %s; %s needs a numeric (double) matrix column.",
                                   type_phrase(type, levels), label), call)
      }
      x <- column
      storage.mode(x) <- "double"
      bad <- !is.na(x) & !is.finite(x)
      if (any(bad)) {
        at <- which(bad, arr.ind = TRUE)[1, ]
        abort_column(name, sprintf("holds %s in row %d, column %d; %s needs finite numbers.",
                                   format(column[at[1], at[2]]), at[1], at[2], label), call)
      }
      attributes(x) <- list(dim = dim(column))
      x
    },
    stop(sprintf("no column values for the vector kind \"%s\"", model$kind)))
}

type_phrase <- function(type, levels) {
  switch(type,
    factor = sprintf("a factor with %d levels", length(levels)),
    logical = "a logical column",
    integer = "an integer column",
    double = "a double column",
    "logical matrix" = , "integer matrix" = , "double matrix" = with_article(sprintf("%s column", type)),
    with_article(sprintf("%s column", type)))
}
