"""Sessions: real-time mediation rooms (joint channel, caucuses, shuttle, presence, resume).
This skeleton keeps a room record per case, opened later once the agreement to mediate is signed."""
