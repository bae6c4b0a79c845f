"""Sessions: real-time mediation rooms (joint channel, caucuses, shuttle, presence, resume) with
audio and video that follow the channels. ``rooms`` decides who is where and who receives what;
``connection``, ``hub`` and ``sequencer`` carry it; ``media`` hands out TURN relays."""
