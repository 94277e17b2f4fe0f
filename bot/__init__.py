"""regiobot: answers questions about regional cooperation in central Germany."""
