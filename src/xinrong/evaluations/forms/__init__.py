"""Forms of 融资评价."""
