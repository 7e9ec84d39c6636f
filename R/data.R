#' 1984 United States Congressional voting records
#'
#' The votes of the 435 members of the US House of Representatives on 16
#' key votes of 1984, as identified by the Congressional Quarterly
#' Almanac: `TRUE` for yea (voted for, paired for, announced for), `FALSE`
#' for nay (voted against, paired against, announced against) and `NA` for
#' anything else (voted present, voted present to avoid a conflict of
#' interest, did not vote or otherwise make a position known): 392 of the
#' 6,960 entries. A small real data set of binary features with missing
#' entries, for examples and the 'Get started' vignette.
#'
#' @format A 435 x 16 logical matrix, one column per vote (named after the
#'   bill), with attribute `party`: a factor with levels `democrat` (267)
#'   and `republican` (168), one per row. The party is not used in fitting;
#'   it lets one see what the clusters found.
#' @source UCI Machine Learning Repository, "Congressional Voting Records",
#'   donated by Jeff Schlimmer, 1987, \doi{10.24432/C5C01P}; licensed under
#'   Creative Commons Attribution 4.0 International (CC BY 4.0). Converted
#'   from the copy in the mlbench package (`HouseVotes84`) by
#'   `data-raw/house_votes.R` in the package sources.
#' @references Congressional Quarterly Almanac, 98th Congress, 2nd session
#'   1984, Volume XL. Congressional Quarterly Inc., Washington, D.C., 1985.
#' @examples
#' data(house_votes)
#' dim(house_votes)
#' colMeans(house_votes, na.rm = TRUE)
#' table(attr(house_votes, "party"))
#' @docType data
#' @name house_votes
#' @keywords datasets
NULL
