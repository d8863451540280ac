"""Evaluation metrics shared by the trainers (ranking metrics in `ranking`)."""
