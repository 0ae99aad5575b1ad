"""Services (writes) of 融资评价."""
