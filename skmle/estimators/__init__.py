"""Estimators: scikit-learn classes built on the model and optimizer layers."""
