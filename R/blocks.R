# The packed feature blocks the C core reads (src/block.h, block_data_t):
# one block per likelihood kind present in a definition, in the kinds'
# scoring order (bb, dd, gp, bnb, nich), each holding its features'
# columns row-major. The layout is the R <-> C contract of the model
# library (coord CONTRACT.md, "Packed blocks").

# pack_blocks(view, defn): a list of blocks, each
#   list(kind      = C id of the kind (0 bb, 1 dd, 2 gp, 3 bnb, 4 nich),
#        features  = 1-based global ids of its features, increasing,
#        ivalues   = integer n x F, row-major (row i's F cells contiguous),
#                    dd levels 0-based, gp/bnb counts; NA_integer_ (INT_MIN,
#                    BLOCK_INT_NA) for a missing cell; or NULL,
#        dvalues   = double n x F, row-major, NaN for a missing cell
#                    (nich); or NULL,
#        n_levels  = integer F: k of each dd feature; or NULL,
#        parameter = double F: r of each bnb feature; or NULL,
#        cell_width = integer F: packed columns of each feature's cell, for
#                    a vector kind (dm: k); absent for scalar kinds,
#        bb        = for the bb block: a binary-matrix dataview of its
#                    columns (the packed form of C_pack_data, with n, D and
#                    colnames, as dataview() makes it); for a binary-matrix
#                    view, the view itself, so the all-bb path is today's).
# A column whose values do not fit its model is an error naming the column
# and the row of the first bad value. For a bb column of a data frame, a
# two-level factor's second level is 1 (TRUE), its first 0.
pack_blocks <- function(view, defn, call = caller_call()) {
  force(call)
  check_view_shape(view, defn, call = call)
  kinds <- defn_kinds(defn)
  if (!identical(view$source, "data.frame")) {
    if (!all(kinds == "bb")) abort_binary_view(defn, "defn", call = call)
    return(list(new_block(0L, seq_len(defn$D), bb = view)))
  }
  blocks <- list()
  for (kind in names(model_kind_ids)) {
    features <- which(kinds == kind)
    if (length(features) == 0L) next
    values <- lapply(features, function(j) {
      column_values(view$columns[[j]], defn_model(defn, j), view$colnames[j], j, call = call)
    })
    block <- switch(kind,
      bb = {
        M <- matrix(unlist(values, use.names = FALSE), view$n, length(features),
                    dimnames = list(NULL, view$colnames[features]))
        bb <- structure(c(list(n = view$n, D = length(features), colnames = colnames(M)),
                          .Call(C_pack_data, M, "view")),
                        class = "microscopes_dataview")
        new_block(0L, features, bb = bb)
      },
      dd = new_block(1L, features, ivalues = row_major(values, view$n, integer(1)),
                     n_levels = vapply(features, function(j) defn$parameters[[j]]$k, integer(1))),
      gp = new_block(2L, features, ivalues = row_major(values, view$n, integer(1))),
      bnb = new_block(3L, features, ivalues = row_major(values, view$n, integer(1)),
                      parameter = vapply(features, function(j) defn$parameters[[j]]$r, double(1))),
      nich = new_block(4L, features, dvalues = row_major(values, view$n, double(1))),
      niw = {
        for (i in seq_along(features)) refuse_partly_missing_niw(values[[i]], view, features[i], defn, call)
        new_block(5L, features, dvalues = row_major_cells(values, view$n, double(1)),
                  cell_width = vapply(values, ncol, integer(1)))
      },
      dm = new_block(6L, features, ivalues = row_major_cells(values, view$n, integer(1)),
                     cell_width = vapply(values, ncol, integer(1))),
      # 0/1 per cell, NA_integer_ missing (src/block_bbnc.c).
      bbnc = new_block(7L, features, ivalues = row_major(lapply(values, as.integer), view$n,
                                                         integer(1))))
    blocks[[length(blocks) + 1L]] <- block
  }
  blocks
}

new_block <- function(kind, features, ivalues = NULL, dvalues = NULL, n_levels = NULL,
                      parameter = NULL, bb = NULL, cell_width = NULL) {
  block <- list(kind = kind, features = as.integer(features), ivalues = ivalues,
                dvalues = dvalues, n_levels = n_levels, parameter = parameter, bb = bb)
  if (!is.null(cell_width)) block$cell_width <- as.integer(cell_width)
  block
}

# The cells of vector-valued features (each an n x w matrix) -> one vector
# of n x (sum of w), row by row: row i's cells, feature after feature, each
# its w entries (src/block.h, block_data_t); NA of a double cell becomes
# NaN.
row_major_cells <- function(cells, n, type) {
  M <- do.call(cbind, lapply(cells, function(x) {
    storage.mode(x) <- typeof(type)
    dim(x) <- c(n, length(x) %/% n)
    x
  }))
  out <- as.vector(t(M))
  if (is.double(type)) out[is.na(out)] <- NaN
  out
}

# Columns (each of length n) -> one vector, row by row; NA of a double
# column becomes NaN, the C side's mark of a missing real cell.
row_major <- function(columns, n, type) {
  M <- matrix(vapply(columns, identity, FUN.VALUE = rep(type, n)), n, length(columns))
  out <- as.vector(t(M))
  if (is.double(type)) out[is.na(out)] <- NaN
  out
}

# A row of a normal_inverse_wishart() feature with some entries NA is fitted
# by data augmentation (src/block_niw_latent.c), whose conditional draws
# work on the stack up to dim 48 (NIW_MAX_PARTIAL_DIM): above that such a
# row is refused.
refuse_partly_missing_niw <- function(x, view, j, defn, call) {
  if (ncol(x) <= 48L) return(invisible())
  missing <- is.na(x)
  partly <- rowSums(missing) > 0L & rowSums(missing) < ncol(x)
  if (any(partly)) {
    abort_column(view$colnames[j], sprintf(paste(
      "has row %d partly NA; %s imputes the missing entries of a partly observed row",
      "only up to dim 48: drop the row, set it all NA, or impute it first."),
      which(partly)[1], format(defn_model(defn, j))), call)
  }
}
