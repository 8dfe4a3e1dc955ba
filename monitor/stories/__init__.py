"""Stories: reports of one event, across outlets and languages, grouped without translation.

    evidence.py   what an item says that does not depend on its language (entities, figures)
    cluster.py    whether an item joins a story: similarity of evidence within a time window
    policy.py     which alerts a saved item raises, given its story

The store assigns stories inside the transaction that saves the items (`store.stories_sql`),
so several workers never start two stories for one event; the policy is called there too, so
an item and its alerts are committed together.
"""
