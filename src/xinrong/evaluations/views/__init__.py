"""Pages of 融资评价."""
