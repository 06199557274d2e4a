"""Seat accounting and the waitlist: the one owner of a cohort's seats.

Cohorts, enrollments and completions call ``service.seats.service``; nothing
else locks a cohort, changes its counters or moves its waitlist. See
``repository`` for the lock order and ``service`` for the rules.
"""
