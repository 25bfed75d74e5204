"""Complaints (监督一点通): filing, following, handling, rating."""
