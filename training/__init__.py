"""Training stage: recordings, preprocessing, models, training and evaluation."""
