"""SMS: the ACS SMS sender, inbound SMS handling and the post-call SMS summary."""
