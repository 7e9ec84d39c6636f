# Builds data/house_votes.rda from the 1984 US Congressional voting records
# (UCI Machine Learning Repository, CC BY 4.0) as shipped by the mlbench
# package (mlbench::HouseVotes84). mlbench is needed only here, not by the
# package. Run from the package root: Rscript data-raw/house_votes.R
utils::data("HouseVotes84", package = "mlbench", envir = environment())
votes <- HouseVotes84
house_votes <- as.matrix(votes[, -1]) == "y"
colnames(house_votes) <- c(
  "handicapped_infants", "water_project_cost_sharing",
  "adoption_of_the_budget_resolution", "physician_fee_freeze",
  "el_salvador_aid", "religious_groups_in_schools",
  "anti_satellite_test_ban", "aid_to_nicaraguan_contras", "mx_missile",
  "immigration", "synfuels_corporation_cutback", "education_spending",
  "superfund_right_to_sue", "crime", "duty_free_exports",
  "export_administration_act_south_africa")
rownames(house_votes) <- NULL
attr(house_votes, "party") <- factor(votes$Class, levels = c("democrat", "republican"))
stopifnot(identical(dim(house_votes), c(435L, 16L)), is.logical(house_votes))
save(house_votes, file = "data/house_votes.rda", compress = "xz", version = 2)
