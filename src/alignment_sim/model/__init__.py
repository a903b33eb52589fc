"""The model: typed parameters, the world as arrays, events and the pure kernels;
the inputs both paths share, and the Mesa reference model.
"""
