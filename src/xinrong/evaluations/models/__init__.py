"""Models of 融资评价."""

from xinrong.evaluations.models.ratings import Rating, RatingAppeal, RatingAppealEvent, RatingScore

__all__ = ["Rating", "RatingAppeal", "RatingAppealEvent", "RatingScore"]
