"""The enforcement stage: walk the payload, detect, classify, decide, mask. The gateway, ``clearance policy test``
and every later caller run this one stage; rendering its decision into HTTP belongs to ``clearance.proxy``."""
